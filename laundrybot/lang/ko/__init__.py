"""Korean (한국어): everything the attendant needs to understand and speak Korean."""

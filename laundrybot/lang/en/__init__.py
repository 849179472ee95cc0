"""English: everything the attendant needs to understand and speak English."""

"""Languages: one unit per language (laundrybot/lang/<code>/), everything that language says."""

"""laundrybot: the offline voice attendant of a self-service laundromat."""

__version__ = "0.1.0"

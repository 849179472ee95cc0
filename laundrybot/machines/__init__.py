"""The shop's machines: their state as every part of laundrybot sees it (``state``)."""

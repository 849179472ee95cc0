"""The kiosk gateway (`laundrybot serve gateway`): kiosk protocol, turns, voice path, web page."""

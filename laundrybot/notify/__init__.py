"""Telling the owner: staff notifications and service alerts, delivered from the spool.

``laundrybot serve notify`` (unit laundrybot-notify.service) finds escalations and alert events
in the spool, delivers each to every configured channel (webhooks, e-mail) at least once, with
retries and backoff until a channel accepts it, and marks it delivered per channel in the
spool's ``deliveries`` table. The gateway asks it over ``notify.sock`` to send an escalation at
once, so that the customer hears honestly whether the staff were messaged.
"""

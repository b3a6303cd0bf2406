"""Alerts: every new event POSTed as JSON to the configured webhooks, in order, retried with back-off until
delivered (the delivery state lives in the store, so a receiver that is down gets the events when it returns), and
the agent's background loop that refreshes verdicts and events after each cycle and sync without blocking either.
"""

from c2watch.alerts.loop import AlertLoop
from c2watch.alerts.webhooks import DeliveryReport, deliver, payload

__all__ = ["AlertLoop", "DeliveryReport", "deliver", "payload"]

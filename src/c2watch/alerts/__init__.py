"""Alerts: every new event POSTed as JSON to the configured webhooks, in order, retried with back-off until
delivered (the delivery state lives in the store, so a receiver that is down gets the events when it returns), and
the background loop of the agent and the hub that refreshes verdicts and events after new records, blocking nothing
(on a hub, once across its replicas: :mod:`c2watch.alerts.gathered`).
"""

from c2watch.alerts.gathered import GatheredJudge
from c2watch.alerts.loop import AlertLoop, store_alert_loop
from c2watch.alerts.webhooks import DeliveryReport, deliver, payload

__all__ = ["AlertLoop", "DeliveryReport", "GatheredJudge", "deliver", "payload", "store_alert_loop"]

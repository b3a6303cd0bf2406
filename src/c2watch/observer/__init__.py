"""The observer: a cycle (select targets, run the probes, persist as they finish), the schedule and the agent."""

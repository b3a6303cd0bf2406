"""Start-up wiring, one module per process: the agent, the hub and the dashboard are assembled here and nowhere else."""

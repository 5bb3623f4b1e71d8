"""Launch's write side: trigger records from deployments, accepting invocations, leases, timed triggers."""

"""Scale-out: worker processes, leases and recovery of dead executors."""

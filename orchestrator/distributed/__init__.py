"""Work spread over Ray: the cluster connection (cluster.py) and checkpoint reads on actors (restore.py)."""

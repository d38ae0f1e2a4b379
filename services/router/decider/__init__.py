"""The router's decisions on the second core: a worker process that loads the same tables and decides
the next poll's incidents while the router's event loop waits on PostgreSQL and Kafka (README.md)."""

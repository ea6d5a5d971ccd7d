"""Cases: the private room where a report becomes coordinated work."""

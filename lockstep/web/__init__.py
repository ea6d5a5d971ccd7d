"""The web interface: thin views over queries and actions."""

"""Mail gateway: outbound delivery, inbound processing, and the crypto adapters they share."""

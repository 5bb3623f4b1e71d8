"""Launch's public views: webhooks, forms, QR codes, scans, pixels and manual runs."""

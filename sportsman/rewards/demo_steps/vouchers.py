"""Demo voucher campaigns."""

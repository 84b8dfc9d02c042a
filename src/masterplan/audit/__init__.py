"""The audit trail: who did what to which object, when, from where (GET /api/v1/audit, admins only)."""

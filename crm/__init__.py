"""Service requests (工单), follow-up calls (回访), deadlines and the customer card (CRM)."""

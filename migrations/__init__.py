"""The one Alembic history of hotline's database: every table of every package (see runner.py, README)."""

"""Dossier and step clocks against legal deadlines: start, pause, resume, end, apology, warnings."""

"""Capture views: the share form (form.py) and voice/video clips (voice.py)."""

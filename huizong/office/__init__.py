"""The office's quarter: dry run, review, corrections, reminders, sign-off and unlock."""

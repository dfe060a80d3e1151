"""What the counter adds to a payload's lookup: the session cross-checks and the ePU state, in one pipeline."""

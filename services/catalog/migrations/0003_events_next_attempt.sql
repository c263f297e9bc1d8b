-- Idle event workers ask when the next retry is due (min(next_attempt_at) over pending events)
-- after every empty claim. Without an index that read every pending row: during a burst of
-- thousands of pending events it cost milliseconds per question, asked on every notification.
CREATE INDEX events_pending_next_attempt ON events (next_attempt_at) WHERE status = 'pending';

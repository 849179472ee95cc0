-- laundrybot PostgreSQL schema, version 2: where each machine's state came from (mqtt: a
-- sensor on the shop floor, api: the payment system, staff: a person). Older rows were set by
-- staff. The state "unknown" (a silent feed) needs no change: state is free text.
ALTER TABLE machines ADD COLUMN source text NOT NULL DEFAULT 'staff';

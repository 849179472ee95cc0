-- laundrybot PostgreSQL schema, version 1: turns, events and machines of one shop or a chain.
-- Every row carries its shop, so a chain's recorders can all point at one database. Rows are
-- forwarded from each shop's spool with INSERT ... ON CONFLICT (id) DO NOTHING: the spool's
-- UUIDs are the keys, so a replay after a crash never doubles a row.

CREATE TABLE turns (
    id uuid PRIMARY KEY,
    ts timestamptz NOT NULL,
    shop text NOT NULL,
    kiosk text NOT NULL,
    session text NOT NULL,
    lang text NOT NULL,
    question text NOT NULL,
    answer text NOT NULL,
    intent text NOT NULL,
    source text NOT NULL,
    latency_ms real NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
-- Turns per hour and retention, per shop and across the chain.
CREATE INDEX turns_shop_ts ON turns (shop, ts);
CREATE INDEX turns_ts ON turns (ts);
-- Top intents over a period.
CREATE INDEX turns_shop_intent_ts ON turns (shop, intent, ts);
-- Unanswered questions: the dialogue fell back to "I don't know".
CREATE INDEX turns_unanswered ON turns (shop, ts) WHERE intent = 'fallback';

CREATE TABLE events (
    id uuid PRIMARY KEY,
    ts timestamptz NOT NULL,
    shop text NOT NULL,
    -- escalation, escalation-resolved, machine-change, error, restart, ...
    kind text NOT NULL,
    kiosk text NOT NULL,
    session text NOT NULL,
    machine integer,
    detail jsonb NOT NULL DEFAULT '{}',
    -- Set on an escalation when its escalation-resolved event arrives.
    resolved_at timestamptz,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_shop_kind_ts ON events (shop, kind, ts);
CREATE INDEX events_ts ON events (ts);
-- Open escalations: staff still have to act on these.
CREATE INDEX events_open_escalations ON events (shop, ts)
    WHERE kind = 'escalation' AND resolved_at IS NULL;

-- The last known state of each machine, from the shops' machine-change events.
CREATE TABLE machines (
    shop text NOT NULL,
    number integer NOT NULL,
    state text NOT NULL,
    until timestamptz,
    updated timestamptz NOT NULL,
    PRIMARY KEY (shop, number)
);

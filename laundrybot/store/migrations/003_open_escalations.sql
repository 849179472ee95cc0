-- laundrybot PostgreSQL schema, version 3: open escalations, as the dashboard and the report
-- count them. An escalation is open until an escalation-resolved event names it (detail
-- "escalation": its id); escalation-updated events (detail "escalation", column machine) add
-- the machine a customer named after the report.

-- The resolution and the updates of one escalation, found by its id.
CREATE INDEX events_resolutions ON events ((detail->>'escalation'))
    WHERE kind = 'escalation-resolved';
CREATE INDEX events_updates ON events ((detail->>'escalation'), ts)
    WHERE kind = 'escalation-updated';

-- Escalations without a matching escalation-resolved event, with the machine named last.
CREATE VIEW open_escalations AS
SELECT e.id, e.ts, e.shop, e.kiosk, coalesce(u.machine, e.machine) AS machine,
       e.detail->>'reason' AS reason, e.detail->>'question' AS question
FROM events e
LEFT JOIN LATERAL (
    SELECT machine FROM events
    WHERE kind = 'escalation-updated' AND detail->>'escalation' = e.id::text
        AND machine IS NOT NULL
    ORDER BY ts DESC LIMIT 1
) u ON true
WHERE e.kind = 'escalation'
    AND NOT EXISTS (
        SELECT 1 FROM events r
        WHERE r.kind = 'escalation-resolved' AND r.detail->>'escalation' = e.id::text
    );

-- resolved_at of escalations whose resolution reached the database before them.
UPDATE events e SET resolved_at = r.ts
FROM events r
WHERE e.kind = 'escalation' AND e.resolved_at IS NULL
    AND r.kind = 'escalation-resolved' AND r.detail->>'escalation' = e.id::text;

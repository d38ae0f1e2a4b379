-- The duplicate search (重复件) reads only open cases of the item near the new incident: a bounding box
-- on (lat, lon) around its point, or its grid when either side has no point. Without these it read the
-- item's oldest open cases in the window, which grows with the open backlog (issue 11: 1,000,000 open).
CREATE INDEX cases_open_near ON cases (item_code, lat, lon, opened_at) WHERE closed_at IS NULL;
CREATE INDEX cases_open_in_grid ON cases (item_code, grid_id, opened_at) WHERE closed_at IS NULL;

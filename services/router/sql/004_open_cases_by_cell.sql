-- The duplicate search by cell instead of by bounding box (003): a bounding box on (lat, lon) cannot be
-- read in opened_at order, so a spot with many open cases of one item made every search near it read
-- them all (≈ 170 rows per incident with 1,000,000 open cases, 430 ms per 300 incidents). Cells of
-- 1/400° (≈ 280 m × 240 m here) are equality keys: each cell around the incident is read in opened_at
-- order and the search stops at its oldest few within the radius. The cell arithmetic is the router's
-- (services/router/adapters/repository.py, CELLS_PER_DEGREE); change both together.
DROP INDEX IF EXISTS cases_open_near;
CREATE INDEX cases_open_cell ON cases (item_code, (floor(lat * 400)::int), (floor(lon * 400)::int), opened_at)
    WHERE closed_at IS NULL;
-- Open cases without a point, by grid: what an incident with a point can still join ("near" = same grid).
CREATE INDEX cases_open_unplaced ON cases (item_code, grid_id, opened_at) WHERE closed_at IS NULL AND lat IS NULL;

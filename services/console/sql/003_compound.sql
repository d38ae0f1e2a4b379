-- The residential compound (小区) the router located a case by (explanation.location, method 'compound'),
-- so hotspots can be grouped by compound as well as by distance.
ALTER TABLE cases ADD COLUMN compound text;

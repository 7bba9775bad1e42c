-- Where a version's date came from, and which files (parts) it was loaded from, so a
-- diff between a full publication and a partial one compares only what both carry.
ALTER TABLE list_versions ADD COLUMN dated_by VARCHAR;
ALTER TABLE list_versions ADD COLUMN parts JSON;

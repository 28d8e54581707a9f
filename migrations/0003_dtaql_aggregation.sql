-- How a DTAQL run combined its tables every delta iterations: 'mean' (Algorithm 1 line 12, the element-wise
-- mean; every run recorded before this column existed) or 'pool' (experience pooling, docs/learning.md).
-- Always 'mean' for ql and dteql.
ALTER TABLE run_params ADD COLUMN aggregation TEXT NOT NULL DEFAULT 'mean' CHECK (aggregation IN ('mean', 'pool'));

-- D_rand: the mean completion time of a uniformly random order of the frame, i.e. the mean over all N!
-- orders of their mean completion time, computed exactly by enumeration (Frame.meanCompletionOverAllOrders).
-- The zero point of the delay score (docs/model.md). NULL above the exact solver's N. Frames stored before
-- this column existed get it on the next open for writing (TrackerStore.fillMissingRandomOrderDelays).
ALTER TABLE frames ADD COLUMN random_mean_completion_s REAL;

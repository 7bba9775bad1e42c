"""The watch: one long-running process that follows AIS and ADS-B feeds and drop
folders and the lists, runs the detectors on the new positions only, and raises alerts,
checkpointing each batch with what it stored (``watchkeeper watch``)."""

"""Scale-out: the same detectors on Apache Spark (``scale.spark``), for data that has
outgrown one machine. ``pyspark`` is imported only when a session is built."""

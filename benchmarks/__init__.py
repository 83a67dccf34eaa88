"""skgen's benchmarks: ``python -m benchmarks --help`` lists the protocols."""

"""Private utilities shared by skgen estimators."""

"""Writers: each turns a SubmissionReport into one output format and nothing else."""

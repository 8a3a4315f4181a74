"""What planrun shows and writes: the terminal, --json, SUMMARY.md, JUnit and GitHub output."""

"""Settings and tables the scorer uses: today the crime harm table (``harm``)."""

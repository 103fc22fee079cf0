"""The plant simulator: drives the MES through its public HTTP APIs as the plant's users do (logistics, HR,
supervisors, line terminals, planners) and keeps its own tally of what it did."""

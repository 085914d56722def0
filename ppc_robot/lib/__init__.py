"""Everything every component uses: models, domain logic, runner. Never imports ppc_robot.web."""

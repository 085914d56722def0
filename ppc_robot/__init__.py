"""PPC Robot: self-hosted reporting and monitoring for PPC specialists."""

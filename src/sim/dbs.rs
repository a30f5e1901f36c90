//! Shared DDS/TaurusDB logic (in progress).

"""Live events over Socket.IO: rooms per plan and conversation, replay from the log, cross-process fan-out."""

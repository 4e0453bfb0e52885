package proxy

type clientStmt struct{ id uint32 }

func (s *Session) handleStmtPrepare(string) error {
	return s.writeError(errorf(1295, "prepared statements: not yet"))
}
func (s *Session) handleStmtExecute([]byte) error {
	return s.writeError(errorf(1295, "prepared statements: not yet"))
}
func (s *Session) handleStmtSendLongData([]byte)    {}
func (s *Session) handleStmtClose([]byte)           {}
func (s *Session) handleStmtReset(d []byte) error   { return s.handleStmtExecute(d) }
func (s *Session) handleFieldList(d []byte) error   { return s.handleStmtExecute(d) }

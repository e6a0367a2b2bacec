#pragma once
// Whether the client of a request being handled has closed its connection, so that a request
// whose client left stops using the engine. httplib hands handlers the request's addresses but not
// its socket; the socket is found by its address pair among this process's descriptors (Linux).
#include <string>

namespace sambay::server {

class ConnectionWatch {
 public:
  // Looks up the accepted socket with local port `local_port` and peer remote_addr:remote_port.
  ConnectionWatch(const std::string& remote_addr, int remote_port, int local_port);

  bool found() const { return fd_ >= 0; }
  // True once the peer closed or reset the connection (or shut down its sending side). A request
  // still being answered should never see that from a well-behaved client. False when not found.
  bool peer_closed() const;

 private:
  int fd_ = -1;
};

}  // namespace sambay::server

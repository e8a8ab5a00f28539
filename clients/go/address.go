package pprocd

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// AddressEnv names the environment variable that gives the server's address
// when Dial is given none.
const AddressEnv = "PPROCD_ADDRESS"

// SystemSocket is where a system-wide server listens (deploy/systemd).
const SystemSocket = "/run/pprocd/pprocd.sock"

// UserSocketPath returns the per-user socket, where pprocd (and scripts/run)
// listens by default: $XDG_RUNTIME_DIR/pprocd/pprocd.sock when
// XDG_RUNTIME_DIR is an absolute path, else /tmp/pprocd-UID/pprocd.sock.
func UserSocketPath() string {
	if runtime := os.Getenv("XDG_RUNTIME_DIR"); strings.HasPrefix(runtime, "/") {
		return strings.TrimRight(runtime, "/") + "/pprocd/pprocd.sock"
	}
	return fmt.Sprintf("/tmp/pprocd-%d/pprocd.sock", os.Geteuid())
}

// Located is where LocateServer looked and what it chose.
type Located struct {
	// Target is the gRPC target to connect to.
	Target string
	// Tried lists what was tried, in order, e.g.
	// "unix:/run/pprocd/pprocd.sock (the system socket)".
	Tried []string
	// NoServerHint is what a "no server" error adds: what was tried and
	// how to start a server.
	NoServerHint string
}

// LocateServer follows the search order shared with the server and every
// client: address, else $PPROCD_ADDRESS, else the per-user socket
// (UserSocketPath), else the system socket (SystemSocket). Without address
// and $PPROCD_ADDRESS, the first of the two sockets that exists is used
// (the per-user one when neither does).
func LocateServer(address string) (Located, error) {
	if address != "" {
		target, err := normalizeAddress(address)
		if err != nil {
			return Located{}, err
		}
		tried := target + " (the address given)"
		return Located{target, []string{tried}, "tried " + tried + "; " + startHint(target)}, nil
	}
	if fromEnv := os.Getenv(AddressEnv); fromEnv != "" {
		target, err := normalizeAddress(fromEnv)
		if err != nil {
			return Located{}, fmt.Errorf("$%s: %w", AddressEnv, err)
		}
		tried := target + " (from $" + AddressEnv + ")"
		return Located{target, []string{tried}, "tried " + tried + "; " + startHint(target)}, nil
	}
	user := UserSocketPath()
	target := "unix:" + user
	if _, err := os.Stat(user); err != nil {
		if _, err := os.Stat(SystemSocket); err == nil {
			target = "unix:" + SystemSocket
		}
	}
	tried := []string{"unix:" + user + " (the per-user socket)", "unix:" + SystemSocket + " (the system socket)"}
	hint := "tried " + strings.Join(tried, ", then ") + ", as no address was given and $" + AddressEnv +
		" is unset; start one with `pprocd` or scripts/run"
	return Located{target, tried, hint}, nil
}

var passThroughSchemes = []string{"unix-abstract:", "dns:", "ipv4:", "ipv6:"}

// ResolveAddress returns the gRPC target for address: LocateServer's
// Target. Accepted forms, as by the Python and C++ clients: unix:PATH
// (relative or absolute), unix:///ABS, a bare socket path (containing "/"
// or ending in ".sock"), tcp:HOST:PORT and HOST:PORT.
func ResolveAddress(address string) (string, error) {
	located, err := LocateServer(address)
	return located.Target, err
}

func badAddress(address, why string) error {
	return fmt.Errorf("pprocd: invalid address %q: %s (use unix:PATH, a socket path, tcp:HOST:PORT or HOST:PORT)", address, why)
}

func normalizeAddress(address string) (string, error) {
	text := strings.TrimSpace(address)
	if text == "" {
		return "", badAddress(address, "it is empty")
	}
	if path, ok := strings.CutPrefix(text, "unix:"); ok {
		if path == "" {
			return "", badAddress(address, "the socket path is empty")
		}
		// gRPC reads unix://X as an authority, so only unix:/// is meaningful.
		if strings.HasPrefix(path, "//") && !strings.HasPrefix(path, "///") {
			return "", badAddress(address, "unix:// needs an absolute path: unix:///P")
		}
		return text, nil
	}
	for _, scheme := range passThroughSchemes {
		if strings.HasPrefix(text, scheme) {
			if len(text) == len(scheme) {
				return "", badAddress(address, "nothing follows the scheme")
			}
			return text, nil
		}
	}
	if hostPort, ok := strings.CutPrefix(text, "tcp:"); ok {
		if err := checkHostPort(address, hostPort); err != nil {
			return "", err
		}
		return hostPort, nil
	}
	if strings.Contains(text, "/") || strings.HasSuffix(text, ".sock") {
		return "unix:" + text, nil
	}
	if err := checkHostPort(address, text); err != nil {
		return "", err
	}
	return text, nil
}

func checkHostPort(original, hostPort string) error {
	colon := strings.LastIndex(hostPort, ":")
	if colon < 0 {
		return badAddress(original, "expected HOST:PORT")
	}
	host, port := hostPort[:colon], hostPort[colon+1:]
	if host == "" {
		return badAddress(original, "the host is empty")
	}
	number, err := strconv.Atoi(port)
	if err != nil || number <= 0 || number > 65535 || strings.TrimLeft(port, "0123456789") != "" {
		return badAddress(original, fmt.Sprintf("%q is not a port", port))
	}
	return nil
}

// startHint says how to start a server that serves target.
func startHint(target string) string {
	listen := ""
	if path, ok := strings.CutPrefix(target, "unix:"); ok {
		if strings.HasPrefix(path, "///") {
			path = path[2:]
		}
		listen = "unix:" + path
	} else {
		for _, scheme := range passThroughSchemes {
			if strings.HasPrefix(target, scheme) {
				return "start one with `pprocd` or scripts/run"
			}
		}
		listen = "tcp:" + target
	}
	return fmt.Sprintf("start one with `pprocd --listen %s` or scripts/run --listen %s", listen, listen)
}

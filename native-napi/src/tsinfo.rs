//! What an interface can timestamp (ETHTOOL_GET_TS_INFO), and switching its
//! hardware timestamping on (SIOCSHWTSTAMP) for hardware-mode sockets.

use crate::js::{Args, JsError, JsResult, Out};
use crate::napi::napi_value;
use crate::sys::*;
use std::os::raw::{c_char, c_int};

pub struct TsInfo {
    pub ifindex: u32,
    pub info: ethtool_ts_info,
}

const SW_CAPS: u32 = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
const HW_CAPS: u32 = SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE;

impl TsInfo {
    pub fn hardware(&self) -> bool {
        self.info.so_timestamping & HW_CAPS == HW_CAPS
    }
    pub fn software(&self) -> bool {
        self.info.so_timestamping & SW_CAPS == SW_CAPS
    }
}

/// A Linux interface name: 1 to 15 bytes, no NUL or '/'.
pub fn check_ifname(fn_name: &str, name: &str) -> JsResult<()> {
    if name.is_empty() || name.len() > 15 || name.contains('\0') || name.contains('/') || name.contains(char::is_whitespace) {
        return Err(JsError::Range(format!("{fn_name}: interface name must be 1 to 15 bytes without '/', NUL or spaces, got {name:?}")));
    }
    Ok(())
}

fn ifreq_for(name: &str, data: *mut std::os::raw::c_void) -> ifreq {
    let mut req = ifreq { ifr_name: [0; 16], ifr_data: data, _pad: [0; 32] };
    for (i, b) in name.bytes().enumerate().take(15) {
        req.ifr_name[i] = b as c_char;
    }
    req
}

/// A short-lived datagram socket for interface ioctls.
struct IoctlSocket(c_int);
impl IoctlSocket {
    fn new(what: &str) -> JsResult<Self> {
        let fd = unsafe { socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(JsError::last_os(what));
        }
        Ok(IoctlSocket(fd))
    }
}
impl Drop for IoctlSocket {
    fn drop(&mut self) {
        unsafe { close(self.0) };
    }
}

pub fn ifindex(fn_name: &str, name: &str) -> JsResult<u32> {
    check_ifname(fn_name, name)?;
    let cname = cstring(name).ok_or_else(|| JsError::Range(format!("{fn_name}: bad interface name")))?;
    let idx = unsafe { if_nametoindex(cname.as_ptr()) };
    if idx == 0 {
        return Err(JsError::last_os(&format!("{fn_name}: interface {name:?}")));
    }
    Ok(idx)
}

pub fn query(fn_name: &str, name: &str) -> JsResult<TsInfo> {
    let idx = ifindex(fn_name, name)?;
    let s = IoctlSocket::new(fn_name)?;
    let mut info = ethtool_ts_info { cmd: ETHTOOL_GET_TS_INFO, ..Default::default() };
    let mut req = ifreq_for(name, (&mut info as *mut ethtool_ts_info).cast());
    if unsafe { ioctl(s.0, SIOCETHTOOL, &mut req as *mut ifreq) } < 0 {
        return Err(JsError::last_os(&format!("{fn_name}: ETHTOOL_GET_TS_INFO on {name:?}")));
    }
    Ok(TsInfo { ifindex: idx, info })
}

/// Turns on the NIC's timestamping of all transmitted packets and of PTPv2 UDP
/// event messages (or a wider filter the device offers). Needs CAP_NET_ADMIN.
pub fn enable_hardware(fn_name: &str, name: &str, info: &TsInfo) -> JsResult<()> {
    let filters = info.info.rx_filters;
    let rx_filter = if filters & (1 << HWTSTAMP_FILTER_PTP_V2_L4_EVENT) != 0 {
        HWTSTAMP_FILTER_PTP_V2_L4_EVENT
    } else if filters & (1 << HWTSTAMP_FILTER_PTP_V2_EVENT) != 0 {
        HWTSTAMP_FILTER_PTP_V2_EVENT
    } else {
        HWTSTAMP_FILTER_ALL
    };
    let s = IoctlSocket::new(fn_name)?;
    let mut cfg = hwtstamp_config { flags: 0, tx_type: HWTSTAMP_TX_ON, rx_filter };
    let mut req = ifreq_for(name, (&mut cfg as *mut hwtstamp_config).cast());
    if unsafe { ioctl(s.0, SIOCSHWTSTAMP, &mut req as *mut ifreq) } < 0 {
        return Err(JsError::last_os(&format!("{fn_name}: SIOCSHWTSTAMP on {name:?}")));
    }
    Ok(())
}

fn interface_timestamping(a: &Args) -> JsResult<napi_value> {
    let name = a.arg_string(0, "ifname")?;
    let t = query(a.name, &name)?;
    let o = Out(a.env);
    o.object(&[
        ("ifindex", o.int(t.ifindex as i64)?),
        ("phcIndex", o.int(t.info.phc_index as i64)?),
        ("soTimestamping", o.int(t.info.so_timestamping as i64)?),
        ("txTypes", o.int(t.info.tx_types as i64)?),
        ("rxFilters", o.int(t.info.rx_filters as i64)?),
        ("hardware", o.boolean(t.hardware())?),
        ("software", o.boolean(t.software())?),
    ])
}
crate::js_function!(js_interface_timestamping, "interfaceTimestamping", interface_timestamping);

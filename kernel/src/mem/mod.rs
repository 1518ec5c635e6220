//! Physical memory: the frame allocator and frames that hold kernel objects.

pub mod frame;
pub mod kobj;
pub mod nodes;
pub mod phys;

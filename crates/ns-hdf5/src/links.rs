//! The links of one group, with their kinds, without following any of them.
//!
//! hdf5-reader's `Group` API resolves soft and external links while listing;
//! a viewer must show them as links, so this walks the three storage forms
//! (symbol table, compact link messages, dense link storage) itself with the
//! crate's public low-level modules.

use hdf5_reader::btree_v2::{self, BTreeV2Record};
use hdf5_reader::fractal_heap::{FractalHeap, FractalHeapDirectBlockCache};
use hdf5_reader::io::Cursor;
use hdf5_reader::local_heap::LocalHeap;
use hdf5_reader::messages::HdfMessage;
use hdf5_reader::messages::link::{self, LinkTarget};
use hdf5_reader::symbol_table::SymbolTableNode;
use hdf5_reader::{Hdf5File, btree_v1};

/// Where a link points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkKind {
    /// An object in this file, by object header address.
    Hard(u64),
    Soft(String),
    External {
        file: String,
        path: String,
    },
}

/// One named link of a group.
#[derive(Debug, Clone)]
pub struct Link {
    pub name: String,
    pub kind: LinkKind,
}

/// Upper bound on the entries of one group, against hostile files.
const MAX_LINKS: usize = 10_000_000;

/// Lists the links of the group whose object header is at `address`.
pub(crate) fn group_links(file: &Hdf5File, address: u64) -> hdf5_reader::error::Result<Vec<Link>> {
    let header = file.get_or_parse_header(address)?;
    let offset_size = file.superblock().offset_size;
    let length_size = file.superblock().length_size;
    let mut links = Vec::new();
    for msg in &header.messages {
        match msg {
            HdfMessage::SymbolTable(st) => {
                return symbol_table_links(file, st.btree_address, st.heap_address);
            }
            HdfMessage::Link(l) => links.push(from_message(l.name.clone(), &l.target)),
            HdfMessage::LinkInfo(li)
                if !Cursor::is_undefined_offset(li.fractal_heap_address, offset_size) =>
            {
                let storage = file.storage();
                let heap = FractalHeap::parse_at_storage(
                    storage,
                    li.fractal_heap_address,
                    offset_size,
                    length_size,
                )?;
                let btree = btree_v2::BTreeV2Header::parse_at_storage(
                    storage,
                    li.btree_name_index_address,
                    offset_size,
                    length_size,
                )?;
                let records = btree_v2::collect_btree_v2_records_storage(
                    storage,
                    &btree,
                    offset_size,
                    length_size,
                    None,
                    &[],
                    None,
                )?;
                let mut blocks = FractalHeapDirectBlockCache::default();
                for record in &records {
                    let (BTreeV2Record::LinkNameHash { heap_id, .. }
                    | BTreeV2Record::CreationOrder { heap_id, .. }) = record
                    else {
                        continue;
                    };
                    let bytes = heap.get_object_storage_cached_with_registry(
                        heap_id,
                        storage,
                        offset_size,
                        length_size,
                        &mut blocks,
                        None,
                    )?;
                    let mut cursor = Cursor::new(&bytes);
                    let msg = link::parse(&mut cursor, offset_size, length_size, bytes.len())?;
                    links.push(from_message(msg.name, &msg.target));
                    if links.len() > MAX_LINKS {
                        return Err(too_many());
                    }
                }
            }
            _ => {}
        }
    }
    ns_sort::sort_by(&mut links, |a, b| a.name.cmp(&b.name));
    links.dedup_by(|a, b| a.name == b.name);
    Ok(links)
}

fn too_many() -> hdf5_reader::error::Error {
    hdf5_reader::error::Error::InvalidData(format!("group has more than {MAX_LINKS} links"))
}

fn from_message(name: String, target: &LinkTarget) -> Link {
    let kind = match target {
        LinkTarget::Hard { address } => LinkKind::Hard(*address),
        LinkTarget::Soft { path } => LinkKind::Soft(path.clone()),
        LinkTarget::External { filename, path } => LinkKind::External {
            file: filename.clone(),
            path: path.clone(),
        },
    };
    Link { name, kind }
}

/// An old-style group: a v1 B-tree of symbol table nodes, names in a local heap.
fn symbol_table_links(
    file: &Hdf5File,
    btree_address: u64,
    heap_address: u64,
) -> hdf5_reader::error::Result<Vec<Link>> {
    let storage = file.storage();
    let offset_size = file.superblock().offset_size;
    let length_size = file.superblock().length_size;
    let heap = LocalHeap::parse_at_storage(storage, heap_address, offset_size, length_size)?;
    let segment_len = usize::try_from(heap.data_segment_size)
        .map_err(|_| hdf5_reader::error::Error::InvalidData("local heap too large".into()))?;
    let segment = storage.read_range(heap.data_segment_address, segment_len)?;
    let leaves = btree_v1::collect_btree_v1_leaves_storage(
        storage,
        btree_address,
        offset_size,
        length_size,
        None,
        &[],
        None,
    )?;
    let name_at = |offset: u64| -> hdf5_reader::error::Result<String> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let bytes = segment.get(start..).ok_or_else(|| {
            hdf5_reader::error::Error::InvalidData(format!(
                "link name offset {offset} outside the local heap"
            ))
        })?;
        let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
        Ok(String::from_utf8_lossy(&bytes[..end]).into_owned())
    };
    let entry_len = 2 * usize::from(offset_size) + 4 + 4 + 16;
    let mut links = Vec::new();
    for (_key, node_address) in &leaves {
        let prefix = storage.read_range(*node_address, 8)?;
        if prefix.get(..4) != Some(b"SNOD") {
            return Err(hdf5_reader::error::Error::InvalidSymbolTableNodeSignature);
        }
        let count = usize::from(u16::from_le_bytes([prefix[6], prefix[7]]));
        let node = storage.read_range(*node_address, 8 + count * entry_len)?;
        let mut cursor = Cursor::new(&node);
        let node = SymbolTableNode::parse(&mut cursor, offset_size, length_size)?;
        for entry in &node.entries {
            let name = name_at(entry.link_name_offset)?;
            let kind = if entry.cache_type == 2 {
                let offset = u32::from_le_bytes([
                    entry.scratch[0],
                    entry.scratch[1],
                    entry.scratch[2],
                    entry.scratch[3],
                ]);
                LinkKind::Soft(name_at(u64::from(offset))?)
            } else {
                LinkKind::Hard(entry.object_header_address)
            };
            links.push(Link { name, kind });
            if links.len() > MAX_LINKS {
                return Err(too_many());
            }
        }
    }
    ns_sort::sort_by(&mut links, |a, b| a.name.cmp(&b.name));
    Ok(links)
}

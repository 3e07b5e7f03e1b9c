#!/usr/bin/env python3
"""Extract one domain of MixLab's real corpus from a Debian machine.

Run by `mixlab corpus gather` (which embeds this file; see scripts/generate-corpus-script.sh):

    python3 gather_corpus.py DOMAIN DEBDIR OUTFILE CAPBYTES

DEBDIR holds the .deb files `mixlab` fetched with `apt-get download`; they are read with
`dpkg-deb --fsys-tarfile`, never installed. Documents are written to OUTFILE in their final order
(a deterministic shuffle by SHA-256 of the document id), stopping once CAPBYTES bytes of text are out.
Each record is: 4-byte big-endian id length, id (UTF-8), 4-byte big-endian text length, text (UTF-8).
One JSON line on stdout describes the source; exit status 3 with a message on stderr means the
domain's source is missing on this machine. Standard library only.
"""
import bz2
import concurrent.futures
import glob
import gzip
import hashlib
import io
import json
import lzma
import os
import re
import struct
import subprocess
import sys
import sysconfig
import tarfile
import zlib


class Missing(Exception):
    """The domain's source is not on this machine."""


def order_key(doc_id):
    return hashlib.sha256(doc_id.encode('utf-8')).hexdigest()


def deb_files(debdir, package, member_pattern):
    """(path, bytes) of the regular files in PACKAGE's .deb whose path matches MEMBER_PATTERN."""
    debs = sorted(glob.glob(os.path.join(debdir, package + '_*.deb')))
    if not debs:
        raise Missing('%s_*.deb is not in %s' % (package, debdir))
    tar = subprocess.run(['dpkg-deb', '--fsys-tarfile', debs[-1]], check=True, capture_output=True).stdout
    pattern = re.compile(member_pattern)
    found = []
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        for member in archive.getmembers():
            if member.isfile() and pattern.search(member.name):
                found.append((member.name, archive.extractfile(member).read()))
    found.sort()
    return found


# ---- code: the Python standard library of the interpreter running this script (PSF-2.0) ----

def code(debdir):
    root = sysconfig.get_paths()['stdlib']
    skipped = {'site-packages', 'dist-packages', 'test', 'tests', 'idle_test', '__pycache__', 'lib2to3'}
    docs = []
    for folder, subfolders, files in os.walk(root):
        subfolders[:] = sorted(d for d in subfolders if d not in skipped and not d.startswith('plat-'))
        for name in sorted(files):
            if name.endswith('.py'):
                path = os.path.join(folder, name)
                with open(path, encoding='utf-8', errors='replace') as f:
                    docs.append((os.path.relpath(path, root), lambda text=f.read(): text))
    if not docs:
        raise Missing('no .py files under %s' % root)
    version = '%d.%d.%d' % sys.version_info[:3]
    return docs, 'Python %s standard library (%s)' % (version, root), [('python', version)]


# ---- docs: Linux man-pages from the manpages and manpages-dev .debs, rendered by groff ----

def groff_version():
    try:
        out = subprocess.run(['groff', '--version'], capture_output=True, check=True).stdout.decode()
    except FileNotFoundError:
        raise Missing('groff is not installed (apt-get install groff-base)')
    match = re.search(r'version (\S+)', out)
    return match.group(1) if match else 'unknown'


def render_man(source):
    # Ragged right without hyphenation: a redefined `.ad` keeps pages from re-enabling justification.
    prelude = b'.ad l\n.rn ad ad-original\n.de ad\n..\n'
    result = subprocess.run(['groff', '-k', '-t', '-mandoc', '-Tutf8', '-P-cbou', '-rLL=78n', '-rHY=0'],
                            input=prelude + source, capture_output=True)
    text = result.stdout.decode('utf-8', 'replace')
    text = re.sub(r'[ \t]+\n', '\n', text)
    return re.sub(r'\n{3,}', '\n\n', text).strip('\n')


def docs(debdir):
    version = groff_version()
    pages = []
    for package in ('manpages', 'manpages-dev'):
        for path, data in deb_files(debdir, package, r'^\./usr/share/man/man\d/[^/]+\.gz$'):
            source = gzip.decompress(data)
            if source.lstrip().startswith(b'.so ') and source.count(b'\n') <= 3:
                continue  # an alias page that only points at another page
            pages.append((os.path.basename(path)[:-3], lambda source=source: render_man(source)))
    return pages, 'Linux man-pages (manpages, manpages-dev) rendered by groff %s' % version, [('groff', version)]


# ---- prose: Jane Austen's novels from r-cran-janeaustenr's R lazy-load database ----

class RReader:
    """Reads R's XDR serialization format as far as character vectors and lists need."""

    def __init__(self, data):
        self.data, self.at, self.references = data, 0, []

    def integer(self):
        value = struct.unpack_from('>i', self.data, self.at)[0]
        self.at += 4
        return value

    def take(self, count):
        chunk = self.data[self.at:self.at + count]
        self.at += count
        return chunk

    def read(self):
        if self.take(2) != b'X\n':
            raise ValueError('not an XDR R serialization')
        version = self.integer()
        self.integer()
        self.integer()
        if version == 3:
            self.take(self.integer())  # native encoding name
        return self.item()

    def item(self):
        flags = self.integer()
        kind, has_attributes, has_tag = flags & 0xFF, flags & (1 << 9), flags & (1 << 10)
        if kind in (241, 242, 251, 252, 253, 254):  # environments and nil-like markers
            return None
        if kind == 255:  # reference to an earlier symbol
            index = flags >> 8
            return self.references[(index or self.integer()) - 1]
        if kind == 1:  # symbol
            name = self.item()
            self.references.append(name)
            return name
        if kind == 9:  # string
            length = self.integer()
            return None if length == -1 else self.take(length).decode('utf-8', 'replace')
        if kind in (2, 6, 17):  # pairlist node
            attributes = self.item() if has_attributes else None
            tag = self.item() if has_tag else None
            head = self.item()
            return {'tag': tag, 'head': head, 'tail': self.item(), 'attributes': attributes}
        if kind in (16, 19, 20):
            value = [self.item() for _ in range(self.integer())]
        elif kind in (10, 13):
            count = self.integer()
            value = list(struct.unpack_from('>%di' % count, self.take(4 * count)))
        elif kind == 14:
            count = self.integer()
            value = list(struct.unpack_from('>%dd' % count, self.take(8 * count)))
        else:
            raise ValueError('unsupported R object type %d' % kind)
        if has_attributes:
            return {'value': value, 'attributes': self.item()}
        return value


def r_attribute(node, name):
    while isinstance(node, dict) and 'tag' in node:
        if node['tag'] == name:
            return node['head']
        node = node['tail']
    return None


def r_named(obj):
    """A named R list as (names, values)."""
    return r_attribute(obj['attributes'], 'names'), obj['value']


def decompress_chunk(chunk):
    kind = chunk[4:5]
    if kind == b'Z':
        return zlib.decompress(chunk[5:])
    if kind == b'2':
        return bz2.decompress(chunk[5:])
    if kind == b'X':
        return lzma.decompress(chunk[5:])
    if kind == b'0':
        return chunk[5:]
    return zlib.decompress(chunk[4:])


def prose(debdir):
    files = dict(deb_files(debdir, 'r-cran-janeaustenr', r'/janeaustenr/data/Rdata\.rd[bx]$'))
    database = next((v for k, v in files.items() if k.endswith('.rdb')), None)
    index = next((v for k, v in files.items() if k.endswith('.rdx')), None)
    if database is None or index is None:
        raise Missing('the janeaustenr .deb has no data/Rdata.rdb')
    names, values = r_named(RReader(zlib.decompress(index[4:]) if index[:2] != b'\x1f\x8b'
                                    else gzip.decompress(index)).read())
    variables = values[names.index('variables')]
    chapters = []
    for novel, (offset, length) in zip(*r_named(variables)):
        value = RReader(decompress_chunk(database[offset:offset + length])).read()
        lines = value['value'] if isinstance(value, dict) else value
        if not isinstance(lines, list) or not all(isinstance(x, (str, type(None))) for x in lines):
            continue  # not a novel (e.g. a data frame)
        text = '\n'.join(line or '' for line in lines)
        # One document per chapter, so a held-out split never takes a whole novel.
        for number, part in enumerate(re.split(r'\n(?=(?:CHAPTER|Chapter) [0-9IVXLC]+\.?\s*\n)', text)):
            chapters.append(('%s/%03d' % (novel, number), lambda part=part: part.strip('\n')))
    return chapters, "Jane Austen's six novels (r-cran-janeaustenr)", []


# ---- math: Metamath set.mm (CC0) with the compressed proofs removed ----

def math(debdir):
    found = deb_files(debdir, 'metamath-databases', r'/set\.mm$')
    if not found:
        raise Missing('metamath-databases has no set.mm')
    text = found[0][1].decode('utf-8', 'replace')
    text = re.sub(r'\$=.*?\$\.', '$= ? $.', text, flags=re.S)  # proofs are incompressible letter noise
    start = text.find('$[')  # the long change log before the first include is skipped
    text = text[max(start, 0):]
    sections = re.split(r'\n(?= *\$\(\n *(?:####|#\*#\*|=-=-|-\.-\.))', text)
    docs = [('set.mm/%05d' % n, lambda s=s: s) for n, s in enumerate(sections)]
    return docs, 'Metamath set.mm (metamath-databases), proofs stripped', []


# ---- legal: licence texts and copyright notices of the installed packages ----

DEP5_LIST_FIELD = re.compile(r'^(Files|Files-Excluded|Format|Source|Upstream-Contact|Upstream-Name|Comment):')


def legal(debdir):
    paths = sorted(glob.glob('/usr/share/common-licenses/*')) + sorted(glob.glob('/usr/share/doc/*/copyright'))
    seen, docs = set(), []
    for path in paths:
        if not os.path.isfile(path):
            continue
        with open(path, encoding='utf-8', errors='replace') as f:
            lines, in_list = [], False
            for line in f.read().split('\n'):
                if DEP5_LIST_FIELD.match(line):
                    in_list = True  # file lists and URLs are not legal prose
                    continue
                if in_list and line[:1] in (' ', '\t') and line.strip():
                    continue
                in_list = False
                lines.append(line)
        kept = []
        for paragraph in re.split(r'\n\s*\n', '\n'.join(lines)):
            key = ' '.join(paragraph.split()).lower()
            if len(key) < 20:
                continue
            digest = hashlib.sha256(key.encode()).digest()
            if digest not in seen:  # the same licence paragraph appears in hundreds of packages
                seen.add(digest)
                kept.append(paragraph.strip('\n'))
        if kept:
            docs.append((path, lambda text='\n\n'.join(kept): text))
    if not docs:
        raise Missing('no /usr/share/common-licenses or /usr/share/doc/*/copyright files')
    return docs, 'licence texts and copyright files of the installed packages', []


# ---- config: system configuration files, topped up with Debian package records ----

CONFIG_ROOTS = ['/etc', '/usr/lib/systemd', '/usr/lib/udev', '/usr/lib/tmpfiles.d', '/usr/lib/sysctl.d',
                '/usr/lib/sysusers.d', '/usr/lib/modprobe.d', '/usr/share/alsa', '/usr/share/dbus-1',
                '/usr/share/fontconfig', '/usr/share/polkit-1', '/usr/share/glib-2.0/schemas', '/usr/share/drirc.d']
CONFIG_SUFFIX = re.compile(r'\.(conf|cfg|ini|rules|service|socket|timer|target|mount|path|slice|network|link|'
                           r'desktop|ya?ml|toml|json|xml|properties|cnf|sources|list|preset|policy|env)$')
RECORD_NOISE = re.compile(r'^(MD5sum|SHA1|SHA256|SHA512|Description-md5|Size|Installed-Size|Filename|Tag):.*\n'
                          r'(?:[ \t].*\n)*', re.M)


def config_files():
    seen, docs = set(), []
    for root in CONFIG_ROOTS:
        for folder, subfolders, files in os.walk(root):
            subfolders.sort()
            if folder.startswith(('/etc/ssl', '/etc/alternatives')):
                continue
            for name in sorted(files):
                path = os.path.join(folder, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                if root != '/etc' and not (CONFIG_SUFFIX.search(name) or '.' not in name):
                    continue
                try:
                    if not 0 < os.path.getsize(path) <= 262144:
                        continue
                    with open(path, 'rb') as f:
                        data = f.read()
                    text = data.decode('utf-8')
                except (OSError, UnicodeDecodeError):
                    continue
                if '\0' in text or '-----BEGIN' in text:  # binary or key material
                    continue
                digest = hashlib.sha256(data).digest()
                if digest not in seen:
                    seen.add(digest)
                    docs.append((path, lambda text=text: text))
    return docs


def package_records():
    try:
        out = subprocess.run(['apt-cache', 'dumpavail'], capture_output=True).stdout.decode('utf-8', 'replace')
    except FileNotFoundError:
        return []
    records = sorted(set(RECORD_NOISE.sub('', r.strip('\n') + '\n').strip('\n') for r in out.split('\n\n') if r.strip()))
    return [('deb822/%05d' % (k // 50), lambda k=k: '\n\n'.join(records[k:k + 50])) for k in range(0, len(records), 50)]


def config(debdir):
    files = config_files()
    if not files:
        raise Missing('no readable configuration files under /etc')
    # System files come first (shuffled among themselves); package records only fill up to the cap.
    return files, 'system configuration files, then Debian package records (apt-cache dumpavail)', [], package_records()


DOMAINS = {'code': code, 'docs': docs, 'prose': prose, 'math': math, 'legal': legal, 'config': config}


def main():
    if len(sys.argv) != 5 or sys.argv[1] not in DOMAINS:
        sys.exit('usage: gather_corpus.py {%s} DEBDIR OUTFILE CAPBYTES' % ','.join(DOMAINS))
    domain, debdir, outfile, cap = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    try:
        found = DOMAINS[domain](debdir)
    except (Missing, FileNotFoundError, subprocess.CalledProcessError) as error:
        print('%s: %s' % (domain, error), file=sys.stderr)
        sys.exit(3)
    docs, source, components = found[:3]
    top_up = found[3] if len(found) > 3 else []
    ordered = sorted(docs, key=lambda d: order_key(d[0])) + sorted(top_up, key=lambda d: order_key(d[0]))
    written = 0
    count = 0
    with open(outfile, 'wb') as out, concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        batch_size = 8
        for start in range(0, len(ordered), batch_size):
            batch = ordered[start:start + batch_size]
            for (doc_id, _), text in zip(batch, pool.map(lambda d: d[1](), batch)):
                if written >= cap:
                    break
                body = text.replace('\x1e', ' ').encode('utf-8')
                if not body.strip():
                    continue
                name = doc_id.encode('utf-8')
                out.write(struct.pack('>I', len(name)) + name + struct.pack('>I', len(body)) + body)
                written += len(body)
                count += 1
            if written >= cap:
                break
    print(json.dumps({'source': source, 'components': components, 'documents': count,
                      'available_documents': len(ordered)}))


if __name__ == '__main__':
    main()

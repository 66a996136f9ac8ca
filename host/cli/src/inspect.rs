//! `qorgan inspect`: what a component or a pack contains.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use qorgan::engine::{Engine, PluginInfo};
use qorgan::pack::Pack;

pub(super) fn run(target: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let engine = Engine::new()?;
    if target.is_dir() {
        let pack = Pack::read(target)?;
        let prepared = engine.prepare(&pack)?;
        let info = prepared.info();
        if json {
            let lists: Vec<serde_json::Value> = pack
                .manifest
                .lists
                .iter()
                .map(|l| {
                    serde_json::json!({
                        "name": l.name, "file": l.file, "sha256": l.sha256,
                        "entries": pack.lists.get(&l.name).map(|x| x.len()),
                    })
                })
                .collect();
            let out = serde_json::json!({
                "pack": info,
                "expires_at": pack.manifest.expires_at,
                "failure_action": pack.manifest.failure_action,
                "thresholds": pack.manifest.thresholds,
                "limits": pack.manifest.limits,
                "lists": lists,
            });
            println!("{}", serde_json::to_string_pretty(&out)?);
            return Ok(ExitCode::SUCCESS);
        }
        let m = &pack.manifest;
        println!(
            "pack {} {} (serial {})",
            info.name, info.version, info.serial
        );
        println!("  manifest sha256 {}", info.digest);
        if let Some(expires) = &m.expires_at {
            println!("  expires at      {expires}");
        }
        println!("  failure action  {}", m.failure_action);
        println!(
            "  limits          {} ms per call, {} MiB per plugin",
            m.limits.call_timeout_ms, m.limits.memory_mib
        );
        for l in &m.lists {
            println!(
                "  list {:<20} {} entries ({})",
                l.name,
                pack.lists.get(&l.name).map_or(0, |x| x.len()),
                l.file
            );
        }
        for plugin in &info.plugins {
            print_plugin(plugin);
        }
    } else {
        let bytes =
            std::fs::read(target).with_context(|| format!("cannot read {}", target.display()))?;
        let label = target.display().to_string();
        let info = engine.inspect(&label, &bytes)?;
        if json {
            println!("{}", serde_json::to_string_pretty(&info)?);
        } else {
            print_plugin(&info);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_plugin(p: &PluginInfo) {
    println!("plugin {} {}", p.id, p.version);
    println!("  {}", p.description);
    println!("  sha256 {}", p.sha256);
    println!("  imports: {}", p.imports.join(", "));
    if !p.lists.is_empty() {
        println!("  reads lists: {}", p.lists.join(", "));
    }
    println!("  parameters:");
    for param in &p.parameters {
        println!(
            "    {:<28} {:<8} default {:<12} {}",
            param.name,
            format!("{:?}", param.ty).to_lowercase(),
            param.default,
            param.description
        );
    }
    println!("  finding codes:");
    for code in &p.codes {
        println!(
            "    {:<28} {:<7} {}",
            code.code, code.action, code.description
        );
    }
}
